"""The API's routes, one `APIRouter` per area; `app.create_app` mounts them under /v1."""
