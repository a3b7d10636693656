"""Every page of the console. Anything not exempted by `login_not_required` needs a session."""

from __future__ import annotations

from django.urls import path

from edge.console.views import audit, auth, doorlog, doors, enrol, imports, members, plans, report, staff, today

urlpatterns = [
    path("", today.today, name="home"),
    path("today/live.json", today.today_live, name="today_live"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.logout, name="logout"),
    path("language/", auth.set_language, name="set_language"),
    path("password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("members/", members.member_list, name="members"),
    path("members/add/", members.member_add, name="member_add"),
    path("members/import/", imports.import_upload, name="import"),
    path("members/import/confirm/", imports.import_confirm, name="import_confirm"),
    path("members/<str:member_id>/", members.member_detail, name="member"),
    path("members/<str:member_id>/edit/", members.member_edit, name="member_edit"),
    path("members/<str:member_id>/enrol/", enrol.member_enrol, name="member_enrol"),
    path("members/<str:member_id>/enrol/live.json", enrol.member_enrol_live, name="member_enrol_live"),
    path("members/<str:member_id>/<str:action>/", members.member_action, name="member_action"),
    path("plans/", plans.plans, name="plans"),
    path("plans/seats/", plans.account_seats, name="account_seats"),
    path("doors/", doors.doors_page, name="doors"),
    path("doors/live.json", doors.doors_live, name="doors_live"),
    path("doors/publish/", doors.publish, name="publish"),
    path("doors/<str:door>/<str:action>/", doors.command, name="command"),
    path("log/", doorlog.door_log, name="door_log"),
    path("log/export.csv", doorlog.door_log_csv, name="door_log_csv"),
    path("report/", report.report, name="report"),
    path("audit/", audit.audit_log, name="audit"),
    path("audit/<int:entry_id>/restore/", audit.restore, name="audit_restore"),
    path("staff/", staff.staff_list, name="staff"),
    path("staff/add/", staff.staff_add, name="staff_add"),
    path("staff/<int:user_id>/", staff.staff_edit, name="staff_edit"),
    path("staff/<int:user_id>/password/", staff.staff_password, name="staff_password"),
]

handler403 = "edge.console.views.errors.forbidden"
handler404 = "edge.console.views.errors.not_found"
handler500 = "edge.console.views.errors.server_error"
