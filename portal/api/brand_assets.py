"""GET /api/brand-assets/{name}: resellers' uploaded logos (checked by their bytes when uploaded)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from services.branding.assets import asset_path

TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


async def brand_asset(request: Request) -> Response:
    name = request.path_params["name"]
    path = asset_path(name)
    if path is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    # the name carries the content hash, so a new logo is a new URL and this one never changes
    return FileResponse(
        path,
        media_type=TYPES[path.suffix.lstrip(".")],
        headers={"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"},
    )
