"""Files in and out: curated tables read and validated cell by cell (``tables``), outputs written
atomically and byte-identically (``outputs``), tables rendered as Markdown, LaTeX and HTML
(``render``).
"""
