from django.urls import path

from designer.design import views

app_name = "design"

P = "<int:project_id>/"

urlpatterns = [
    path(P, views.designer, name="designer"),
    path(P + "panes/<str:pane>/", views.pane, name="pane"),
    # Connections (endpoints)
    path(P + "connectors/<str:connector_key>/new/", views.connection_new, name="connection_new"),
    path(P + "connections/<int:connection_id>/", views.connection_detail, name="connection"),
    path(
        P + "connections/<int:connection_id>/save/",
        views.connection_save,
        name="connection_save",
    ),
    path(
        P + "connections/<int:connection_id>/test/",
        views.connection_test,
        name="connection_test",
    ),
    path(
        P + "connections/<int:connection_id>/oauth/start/",
        views.connection_oauth_start,
        name="connection_oauth_start",
    ),
    path(
        P + "connections/<int:connection_id>/oauth/callback/",
        views.connection_oauth_callback,
        name="connection_oauth_callback",
    ),
    # Activities
    path(
        P + "connections/<int:connection_id>/activities/new/<str:activity_type>/",
        views.activity_new,
        name="activity_new",
    ),
    path(P + "activities/<int:activity_id>/", views.activity_detail, name="activity"),
    path(P + "activities/<int:activity_id>/edit/", views.activity_edit, name="activity_edit"),
    # Components pane: rename / duplicate / delete of any component
    path(
        P + "components/<str:kind>/<int:component_id>/<str:action>/",
        views.component_action,
        name="component_action",
    ),
    # Canvas
    path(P + "canvas/drop/", views.canvas_drop, name="canvas_drop"),
    path(P + "canvas/add/", views.add_to_operation, name="add_to_operation"),
    path(P + "canvas/undo/", views.canvas_undo, name="canvas_undo"),
    path(P + "operations/new/", views.operation_new, name="operation_new"),
    path(
        P + "operations/<int:operation_id>/steps/<str:slot>/remove/",
        views.operation_remove_step,
        name="operation_remove_step",
    ),
    path(
        P + "operations/<int:operation_id>/transformation/",
        views.operation_add_transformation,
        name="operation_add_transformation",
    ),
]
