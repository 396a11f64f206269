"""Routes of the staff workbench: the dispatch board, its bulk actions, KPIs and exports."""

from __future__ import annotations

from django.urls import URLPattern, path

from grievances.views import exports, kpis, staff

urlpatterns: list[URLPattern] = [
    path("board/", staff.dispatch_board, name="board"),
    path("board/bulk/", staff.board_bulk, name="board-bulk"),
    path("board/export/", exports.board_export, name="board-export"),
    path("kpis/", kpis.kpis_page, name="kpis"),
    path("kpis/export/", exports.kpis_export, name="kpis-export"),
]
