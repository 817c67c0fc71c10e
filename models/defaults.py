"""Sampling defaults, in one light module (the CLI reads them without numpy).

Measured on the bundled scenario (2 chains, 5 prior sets x 4 seeds): 500
tuning steps and 1,500 kept draws per chain gave max R-hat 1.0081 over every
parameter and reported quantity, min bulk ESS 2,305 and min tail ESS 1,455,
at the cost of the former 1,000 + 1,000 — which crossed R-hat 1.01 in 3 of
20 runs on the parameters alone.
"""

DRAWS = 1500
TUNE = 500
CHAINS = 2
SEED = 20171107  # the day of October, new style
HDI_PROB = 0.94
