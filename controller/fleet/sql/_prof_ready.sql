-- Agent row a is online and onboarded since it came online.
coalesce(a.online AND a.onboarded_at >= coalesce(a.online_since, '-infinity'), false)
