"""Close relatives' requests for the account of who saw a deceased person's record (PIPL Art. 49)."""
