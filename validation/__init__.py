"""Independent validation of sfone's post-run classifier (issue 14): generator and harness.

``python -m validation`` (or ``make validate``) runs the grid and writes ``docs/validation.md``.
"""
