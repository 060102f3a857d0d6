"""``piguard demo``: a small synthetic city loaded into the guarded service, its daily work, and the Minhang replay."""
