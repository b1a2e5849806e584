"""Probabilistic customer lifetime value: BG/NBD for repeat purchases and P(alive), Gamma-Gamma
for spend, fitted by maximum likelihood on a site's calibration summaries, in whole days."""
