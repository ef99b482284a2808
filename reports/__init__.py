"""Reports an accountant signs, and the quarterly public disclosure.

figures.py reads a fund's figures once through the ledger's read functions;
statutory.py turns them into plain rows (pure); labels.py holds the Chinese and
English wording; xlsx.py and pdf.py render the rows; disclosure.py is the public
table by campaign; links.py signs short-lived download links. See docs/reports.md.
"""
