"""Cases: what people decide about evidence (verification now; incidents, acts and
involvements later)."""
