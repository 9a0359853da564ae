"""Python client of Coffer, the OCI registry and S3-compatible object store.

>>> from coffer import Client, BasicAuth
>>> c = Client("http://127.0.0.1:5000", auth=BasicAuth("admin", "secret"))  # doctest: +SKIP
>>> c.upload_file("releases", "v1/app.tar.gz", "app.tar.gz")  # doctest: +SKIP
"""

from .auth import Auth, BasicAuth, ClientCredentials, StaticToken
from .client import Client
from .errors import (BadRequestError, CofferError, ConflictError, ForbiddenError, IntegrityError,
                     NotFoundError, PreconditionFailedError, RateLimitedError, UnauthorizedError,
                     UnavailableError)
from .models import Bucket, ListPage, ObjectInfo
from .retry import NO_RETRY, RetryPolicy

__all__ = [
    "Auth", "BasicAuth", "ClientCredentials", "StaticToken", "Client",
    "CofferError", "BadRequestError", "UnauthorizedError", "ForbiddenError", "NotFoundError",
    "ConflictError", "PreconditionFailedError", "RateLimitedError", "UnavailableError",
    "IntegrityError", "Bucket", "ListPage", "ObjectInfo", "RetryPolicy", "NO_RETRY",
]
__version__ = "0.1.0"
