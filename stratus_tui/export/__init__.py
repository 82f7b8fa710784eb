"""Files the user takes away: CSV now (``export.csv``), PDF later. Plain data in, no IO but
the file itself, no UI: the dashboard, the reports and the command line share one writer.
"""
