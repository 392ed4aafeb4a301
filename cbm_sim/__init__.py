"""cbm-sim: a planning simulator for the Jincheng coalbed-methane industry cluster.

The source of every figure is the city's plan 晋市政发〔2022〕28号 (packaged in
:mod:`cbm_sim.plan.figures`), or an assumption labelled as such in the packaged data.
"""

__version__ = "0.1.0"
