"""`footfall clv`: fit each site's customer lifetime value models now."""
