-- The node lock's advisory lock class: "uspc" in ASCII.
1970499683
