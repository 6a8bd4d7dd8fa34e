"""Jobs that check custom domains' DNS: none yet."""
