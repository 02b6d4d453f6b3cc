"""Printed documents (PDF, ZPL, ESC/POS) and the transports that carry them to printers."""
