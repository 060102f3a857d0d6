"""Close relatives' requests about a deceased person's record (PIPL Art. 49): account, copy, correction, deletion."""
