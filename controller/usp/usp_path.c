/* usp_path.c — placeholder until the path parser lands. */
