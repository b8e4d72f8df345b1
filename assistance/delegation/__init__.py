"""委托乡镇/街道确认 低保 and the district's 抽查 of the streets' decisions (issue 13 item 11)."""
