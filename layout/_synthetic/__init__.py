"""Private building blocks of :mod:`layout.synthetic`; use :func:`layout.synthetic.synthetic_study`.

Every step works on one county at a time with numpy arrays (one element per cell, village,
school ...); none of it loops in Python over cells or children.
"""
