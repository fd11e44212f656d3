"""Reading a study's layers from the files bureaus keep: formats, headers, values, datums.

Modules, in the order a layer passes through them: :mod:`~layout.sources.source` (the
``[layers.<name>]`` table), :mod:`~layout.sources.tables` (the file as it is),
:mod:`~layout.sources.fields` (headers to fields with :mod:`~layout.sources.vocabulary`,
points with :mod:`~layout.sources.datum`, :mod:`~layout.sources.estimates`),
:mod:`~layout.sources.layer` (checked and in the study CRS); :mod:`~layout.sources.folder`
drafts a study from a folder of files.
"""

from . import datum as datum
from . import estimates as estimates
from . import fields as fields
from . import layer as layer
from . import source as source
from . import tables as tables
from . import vocabulary as vocabulary
from .layer import read_layer as read_layer
from .source import LayerSource as LayerSource
