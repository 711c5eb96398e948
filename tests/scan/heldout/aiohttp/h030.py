"""Handler of the catalogue service."""

import ast

from aiohttp import web


class ReportView(web.View):
    async def get(self):
        val = self.request.query.get("report", "")
        type Expr = str
        def evaluate[T](text: Expr, kind: type[T]) -> T:
            return kind(ast.literal_eval(text))
        out = evaluate(val, list)
        return web.json_response({"result": str(out)})


app = web.Application()
app.router.add_view("/report", ReportView)
