"""低保动态管理 (dynamic review): scheduling, recording and confirming the periodic review of every 低保
household, and carrying its outcome (维持/增发/减发/停发/渐退) into the next month's payment run."""
