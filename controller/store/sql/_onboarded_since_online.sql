-- Agent row `a` finished onboarding since it last came online.
a.onboarded_at >= coalesce(a.online_since, '-infinity')
