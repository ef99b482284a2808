"""Reconciliation against outside records: payment-channel settlement files and bank statements."""
