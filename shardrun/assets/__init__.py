"""Static assets: a worker's `[assets] directory` served as files, before its fetch handler or through
`env.ASSETS.fetch(request)`. `files` finds a request path's file safely inside the directory;
`respond` turns it into an HTTP response (ETag, Last-Modified, ranges, 304s, redirects).
"""

from shardrun.assets.files import AssetConfig, Assets, resolve_directory
from shardrun.assets.respond import AssetLimits, StaticFiles

__all__ = ["AssetConfig", "AssetLimits", "Assets", "StaticFiles", "resolve_directory"]
