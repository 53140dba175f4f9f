"""gcnrec_tutorial: the companion package of the gcnrec-tutorial book.

Modules map to chapters (see the README): ``data``/``features``/``splits``
(1), ``graph`` (2), ``text`` (3), ``models``/``losses``/``train``/``metrics``/
``evaluate`` (4), ``fusion`` (5), ``rating``/``recommend`` (6). Importing the
package has no side effects; import the modules you need.
"""

__version__ = "0.1.0"
