"""RP-T011: a Starlette logout sends the user back to the page named in a cookie."""

from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route


def local_path(target):
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def logout(request):
    target = request.cookies.get("return_to", "/")
    response = RedirectResponse(target, status_code=303)  # expect: RP-T011 CWE-601
    response.delete_cookie("session")
    return response


app = Starlette(routes=[Route("/logout", logout)])
