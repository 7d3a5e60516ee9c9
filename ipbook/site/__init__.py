"""The book: the chapters' openers, the site builder, the dataset tabs, the figures and the answer.

- :mod:`~ipbook.site.build`: ``python -m ipbook book``: execute the chapters per dataset and build one site.
- :mod:`~ipbook.site.openers`: what each chapter does first (its runs, or the committed table).
- :mod:`~ipbook.site.dataset_tabs`: one chapter's executions merged into one page with a tab per dataset.
- :mod:`~ipbook.site.pages`: what each chapter's sections glue, one tested function per section.
- :mod:`~ipbook.site.figures`: the chapters' composite figures.
- :mod:`~ipbook.site.plotting`: the figures of runs; :mod:`~ipbook.site.grid_plots`: the figures of the grids' tables.
- :mod:`~ipbook.site.conclusions`: the book's answer, every claim in one category.
"""
