"""RP-L004: the CORS part of a Django project's settings (django-cors-headers)."""

INSTALLED_APPS = ["django.contrib.contenttypes", "corsheaders", "shop"]
MIDDLEWARE = ["corsheaders.middleware.CorsMiddleware", "django.middleware.common.CommonMiddleware"]

CORS_ALLOW_ALL_ORIGINS = True  # expect: RP-L004 CWE-942
CORS_ALLOW_CREDENTIALS = True
