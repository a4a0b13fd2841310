from django.urls import path

from designer.design.views import activities, canvas, components, connections, page

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
    path(P + "canvas/drop/", canvas.canvas_drop, name="canvas_drop"),
    path(P + "canvas/add/", canvas.add_to_operation, name="add_to_operation"),
    path(P + "canvas/undo/", canvas.canvas_undo, name="canvas_undo"),
    path(P + "operations/new/", canvas.operation_new, name="operation_new"),
    path(
        P + "operations/<int:operation_id>/steps/<str:slot>/remove/",
        canvas.operation_remove_step,
        name="operation_remove_step",
    ),
    path(
        P + "operations/<int:operation_id>/transformation/",
        canvas.operation_add_transformation,
        name="operation_add_transformation",
    ),
]
