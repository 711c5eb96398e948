"""RP-L004: the CORS part of a Django project's settings (django-cors-headers)."""

INSTALLED_APPS = ["django.contrib.contenttypes", "corsheaders", "shop"]
MIDDLEWARE = ["corsheaders.middleware.CorsMiddleware", "django.middleware.common.CommonMiddleware"]

CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]  # safe: RP-L004
CORS_ALLOW_CREDENTIALS = True
