"""Build the lecture material from the stored notebooks: an offline site, reveal.js slides, A4 handouts.

    python notebooks/_site site build/site           # index.html + a page per lesson, opens from file://
    python notebooks/_site slides build/slides       # a reveal.js deck per lesson, presents from disk
    python notebooks/_site site build/site --slides build/slides  # both, in one process (the tests' build):
                                                        # each widget's still drawn once, the HTML cleaned once
    python notebooks/_site handouts build/handouts --site build/site  # a PDF per lesson: chromium prints the
                                                        # site's pages (A4); without --site it builds one to print
    python notebooks/_site alt-check                 # exit 1 if an image output (or a widget cell) has no alt

Everything works on in-memory copies: the notebooks are never rewritten. On those copies:
- links between notebooks (``02-momentum.ipynb``, ``01-ema.ipynb#Some-heading``) point at the pages/decks;
- the generated navigation cells are dropped (the pages carry their own previous/next and table of contents);
- a widget cell (``widgets.ema_widget()``, stored without output) gets a still of its initial state, drawn by
  running the notebook's setup cell and the widget cell under matplotlib's Agg backend inside
  ``lessonlib.course.widgets.static_panels()``, and a line saying the live version runs in JupyterLab;
- every figure gets the alt text stored in its cell's metadata (``"alt"``: a string, or a list, one per image);
- a slide starts at each ``#``/``##`` heading and a sub-slide at each exercise (the ``slideshow`` metadata
  ``_build.py`` writes); a section taller than the 1280x720 slide scrolls inside it (deck.css);
- the worked solutions are collapsed ``<details>`` on the site (a click opens one) and left out of the slides and,
  unless asked for, of the handouts.

Web assets (MathJax, reveal.js) come from ``node_modules/`` and are copied next to the pages, so a built folder
works on its own, from disk, with no network (``assets``).

The package, a module per product: ``prepare`` (the in-memory notebooks), ``assets`` (web assets, exporters,
chromium), ``pages`` (the site), ``slides`` (the decks), ``handouts`` (the PDFs); ``__main__`` is the command line.
"""
