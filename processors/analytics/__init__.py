"""Customer analytics, pure: profiles, segments, funnels, RFM and customer rows, with no I/O."""
