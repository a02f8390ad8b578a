"""zh–en parallel-corpus builder: documents in, aligned Hugging Face dataset out.

The public API is listed in ``__all__``; stages live in their own modules
(``extract``, ``split``, ``embed``, ``align``, ``filters``, ``publish``,
``report``) and ``pipeline`` composes them. Importing this package loads no
model.
"""

from corpus.config import Config, load_config
from corpus.errors import CorpusError
from corpus.records import Document, Link, Pair, Passage, Sentence

__version__ = "0.1.0"

__all__ = [
    "Config",
    "CorpusError",
    "Document",
    "Link",
    "Pair",
    "Passage",
    "Sentence",
    "__version__",
    "load_config",
]
