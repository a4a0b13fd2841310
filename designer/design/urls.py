from django.urls import path

from designer.design.views import (
    activities,
    canvas,
    components,
    connections,
    page,
    pickers,
    steps,
    tools,
    workflows,
)

app_name = "design"

P = "<int:project_id>/"

urlpatterns = [
    path(P, page.designer, name="designer"),
    path(P + "panes/<str:pane>/", page.pane, name="pane"),
    # Connections (endpoints)
    path(
        P + "connectors/<str:connector_key>/new/", connections.connection_new, name="connection_new"
    ),
    path(P + "connections/<int:connection_id>/", connections.connection_detail, name="connection"),
    path(
        P + "connections/<int:connection_id>/save/",
        connections.connection_save,
        name="connection_save",
    ),
    path(
        P + "connections/<int:connection_id>/test/",
        connections.connection_test,
        name="connection_test",
    ),
    path(
        P + "connections/<int:connection_id>/oauth/start/",
        connections.connection_oauth_start,
        name="connection_oauth_start",
    ),
    path(
        P + "connections/<int:connection_id>/oauth/callback/",
        connections.connection_oauth_callback,
        name="connection_oauth_callback",
    ),
    # Activities
    path(  # options of a picker field (issue 14)
        P + "connections/<int:connection_id>/pickers/<str:kind>/",
        pickers.picker_options,
        name="picker",
    ),
    path(
        P + "connections/<int:connection_id>/activities/new/<str:activity_type>/",
        activities.activity_new,
        name="activity_new",
    ),
    path(P + "activities/<int:activity_id>/", activities.activity_detail, name="activity"),
    path(P + "activities/<int:activity_id>/edit/", activities.activity_edit, name="activity_edit"),
    # Components pane: rename / duplicate / delete of any component
    path(
        P + "components/<str:kind>/<int:component_id>/<str:action>/",
        components.component_action,
        name="component_action",
    ),
    # Canvas
    path(P + "canvas/undo/", canvas.canvas_undo, name="canvas_undo"),
    path(P + "canvas/redo/", canvas.canvas_redo, name="canvas_redo"),
    # The board (static/js/canvas.js): one request per edit
    path(P + "board/move/", canvas.board_move, name="board_move"),
    path(P + "board/chain/", canvas.board_chain, name="board_chain"),
    path(P + "board/tidy/", canvas.board_tidy, name="board_tidy"),
    path(P + "board/paste/", canvas.board_paste, name="board_paste"),
    path(P + "board/status/", canvas.board_status, name="board_status"),
    path(P + "board/selection/<str:action>/", canvas.board_selection, name="board_selection"),
    path(
        P + "operations/<int:operation_id>/chains/",
        canvas.operation_chains,
        name="operation_chains",
    ),
    # Workflows (the tabs)
    path(P + "workflows/new/", workflows.workflow_new, name="workflow_new"),
    path(
        P + "workflows/<int:workflow_id>/rename/",
        workflows.workflow_rename,
        name="workflow_rename",
    ),
    path(
        P + "workflows/<int:workflow_id>/move/<str:direction>/",
        workflows.workflow_move,
        name="workflow_move",
    ),
    path(
        P + "workflows/<int:workflow_id>/delete/",
        workflows.workflow_delete,
        name="workflow_delete",
    ),
    path(P + "operations/new/", canvas.operation_new, name="operation_new"),
    # Steps of an operation and the tools (static/js/steps.js, templates/design/_steps.html)
    path(P + "steps/add/", steps.step_add, name="step_add"),
    path(P + "steps/<int:step_id>/", tools.step_detail, name="step"),
    path(P + "steps/<int:step_id>/save/", tools.step_save, name="step_save"),
    path(P + "steps/<int:step_id>/remove/", steps.step_remove, name="step_remove"),
    path(P + "steps/<int:step_id>/preview/", tools.step_preview, name="step_preview"),
]
