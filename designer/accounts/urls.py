from django.urls import path

from designer.accounts import views

app_name = "accounts"

urlpatterns = [
    path("invitations/<str:token>/", views.invitation_accept, name="invitation"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password-reset/done/", views.password_reset_complete, name="password_reset_complete"),
]

# Project-scoped (mounted under projects/): a project Admin withdraws a pending invitation.
project_urlpatterns = [
    path(
        "<int:project_id>/invitations/<int:grant_id>/cancel/",
        views.project_invitation_cancel,
        name="cancel",
    ),
    path(
        "<int:project_id>/invitations/<int:grant_id>/resend/",
        views.project_invitation_resend,
        name="resend",
    ),
]
