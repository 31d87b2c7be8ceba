"""A local HTTP peer that answers the part of Grafana's HTTP API a push uses, as Grafana
documents it (developers/http_api: data_source, folder, dashboard): bearer-token auth on
everything but /api/health, data sources and folders by uid, dashboards saved with
POST /api/dashboards/db and versioned. Bodies are checked as Grafana checks them; every request
is recorded as (method, path, body)."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class GrafanaPeer:
    """State of one Grafana organisation and the requests that reached it."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.requests: list[tuple[str, str, dict | None]] = []
        self.datasources: dict[str, dict] = {}
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}  # uid -> {"dashboard", "folderUid", "version"}
        self.secrets: dict[str, str] = {}  # the last secureJsonData, as Grafana would store it
        self._lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                if method in ("POST", "PUT"):
                    assert self.headers.get("Content-Type", "").startswith("application/json")
                with peer._lock:
                    peer.requests.append((method, self.path, body))
                    status, answer = peer.answer(method, self.path, body,
                                                 self.headers.get("Authorization", ""))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def do_PUT(self):
                self._serve("PUT")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        """``METHOD path`` of every request, in order."""
        return [f"{method} {path}" for method, path, _ in self.requests]

    # -- Grafana's answers -------------------------------------------------------------------
    def answer(self, method: str, path: str, body: dict | None, auth: str) -> tuple[int, dict]:
        if (method, path) == ("GET", "/api/health"):
            return 200, {"database": "ok", "version": "11.3.0", "commit": "local-peer"}
        if auth != f"Bearer {self.token}":
            return 401, {"message": "Invalid API key"}
        for pattern, handler in self.ROUTES:
            match = re.fullmatch(pattern, f"{method} {path}")
            if match:
                return handler(self, body, *match.groups())
        return 404, {"message": "Not found"}

    def _get_datasource(self, _body, uid):
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        return 200, self.datasources[uid]

    def _check_datasource(self, body) -> str | None:
        for key in ("name", "type", "access"):
            if not isinstance(body.get(key), str) or not body[key]:
                return f"{key} is required"
        if body["access"] not in ("proxy", "direct"):
            return "access must be proxy or direct"
        return None

    def _stored_datasource(self, body, number: int) -> dict:
        # Grafana keeps secureJsonData encrypted and answers only which keys are set
        stored = {k: v for k, v in body.items() if k != "secureJsonData"}
        stored |= {"id": number, "orgId": 1, "readOnly": False,
                   "secureJsonFields": dict.fromkeys(body.get("secureJsonData", {}), True)}
        return stored

    def _create_datasource(self, body):
        problem = self._check_datasource(body or {})
        if problem:
            return 400, {"message": problem}
        if any(d["name"] == body["name"] for d in self.datasources.values()):
            return 409, {"message": "data source with the same name already exists"}
        if body.get("uid") in self.datasources:
            return 409, {"message": "data source with the same uid already exists"}
        stored = self._stored_datasource(body, len(self.datasources) + 1)
        self.datasources[body["uid"]] = stored
        self.secrets = dict(body.get("secureJsonData", {}))
        return 200, {"datasource": stored, "id": stored["id"], "message": "Datasource added",
                     "name": stored["name"]}

    def _update_datasource(self, body, uid):
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        if self.datasources[uid]["readOnly"]:  # provisioned from a file
            return 403, {"message": "Cannot modify read-only data source"}
        problem = self._check_datasource(body or {})
        if problem:
            return 400, {"message": problem}
        stored = self._stored_datasource(body, self.datasources[uid]["id"])
        self.datasources[uid] = stored
        self.secrets = dict(body.get("secureJsonData", {}))
        return 200, {"datasource": stored, "id": stored["id"], "message": "Datasource updated",
                     "name": stored["name"]}

    def _get_folder(self, _body, uid):
        if uid not in self.folders:
            return 404, {"message": "folder not found", "status": "not-found"}
        return 200, self.folders[uid]

    def _create_folder(self, body):
        if not (body or {}).get("title"):
            return 400, {"message": "folder title cannot be empty"}
        if body.get("uid") in self.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        folder = {"id": len(self.folders) + 1, "uid": body["uid"], "title": body["title"],
                  "url": f"/dashboards/f/{body['uid']}/", "version": 1}
        self.folders[body["uid"]] = folder
        return 200, folder

    def _save_dashboard(self, body):
        dashboard = (body or {}).get("dashboard")
        if not isinstance(dashboard, dict) or not dashboard.get("title"):
            return 400, {"message": "Dashboard title cannot be empty"}
        folder = body.get("folderUid")
        if folder and folder not in self.folders:
            return 400, {"message": "folder not found", "status": "not-found"}
        uid, known = dashboard.get("uid"), None
        if dashboard.get("id") is not None:
            known = next((u for u, d in self.dashboards.items()
                          if d["dashboard"]["id"] == dashboard["id"]), None)
            if known is None:
                return 404, {"message": "Dashboard not found", "status": "not-found"}
        current = self.dashboards.get(uid)
        if current and not body.get("overwrite") and dashboard.get("version") != current["version"]:
            return 412, {"message": "The dashboard has been changed by someone else",
                         "status": "version-mismatch"}
        version = current["version"] + 1 if current else 1
        number = current["dashboard"]["id"] if current else len(self.dashboards) + 1
        self.dashboards[uid] = {"dashboard": dashboard | {"id": number, "version": version},
                                "folderUid": folder, "version": version}
        return 200, {"id": number, "uid": uid, "url": f"/d/{uid}/", "status": "success",
                     "version": version, "slug": uid}

    ROUTES = (
        (r"GET /api/datasources/uid/([\w-]+)", _get_datasource),
        (r"POST /api/datasources", _create_datasource),
        (r"PUT /api/datasources/uid/([\w-]+)", _update_datasource),
        (r"GET /api/folders/([\w-]+)", _get_folder),
        (r"POST /api/folders", _create_folder),
        (r"POST /api/dashboards/db", _save_dashboard),
    )
