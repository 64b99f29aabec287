module labctl.local/guestbook

go 1.22
