"""``edgeq sweep``: models x convert options x targets, run as independent jobs, kept in a results folder.

``spec`` reads and checks the sweep file, ``plan`` makes its jobs and their
ids, ``jobs`` holds the job functions, ``executor`` runs them (Ray or a local
process pool), ``runner`` schedules them and ``results`` keeps
``results.json``; ``analysis`` turns the records into configurations, Pareto
fronts and the pick per target, which ``report`` and ``charts`` render.
"""
