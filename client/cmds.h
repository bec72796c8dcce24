/*
 * cmds.h - the command entries, one per command, each defined beside its
 * handler in the file named for its command or group (tmux style).  The
 * table in alliancectl.c lists them.
 */
#ifndef CMDS_H
#define CMDS_H

#include "ctl.h"

extern const struct cmd_entry cmd_status_entry;         /* status.c */
extern const struct cmd_entry cmd_therapist_list_entry; /* therapist.c */
extern const struct cmd_entry cmd_therapist_show_entry;
extern const struct cmd_entry cmd_therapist_add_entry;
extern const struct cmd_entry cmd_therapist_update_entry;
extern const struct cmd_entry cmd_therapist_set_entry;
extern const struct cmd_entry cmd_therapist_retire_entry;
extern const struct cmd_entry cmd_therapist_import_entry; /* therapist_import.c */
extern const struct cmd_entry cmd_colleague_link_entry;   /* colleague.c */
extern const struct cmd_entry cmd_colleague_unlink_entry;
extern const struct cmd_entry cmd_colleague_list_entry;
extern const struct cmd_entry cmd_client_show_entry; /* client.c */
extern const struct cmd_entry cmd_client_add_entry;
extern const struct cmd_entry cmd_match_entry;         /* match.c */
extern const struct cmd_entry cmd_episode_start_entry; /* episode.c */
extern const struct cmd_entry cmd_episode_end_entry;
extern const struct cmd_entry cmd_episode_show_entry;
extern const struct cmd_entry cmd_feedback_add_entry; /* feedback.c */
extern const struct cmd_entry cmd_attendance_entry;
extern const struct cmd_entry cmd_alliance_entry;        /* alliance.c */
extern const struct cmd_entry cmd_referrals_entry;       /* referrals.c */
extern const struct cmd_entry cmd_report_alliance_entry; /* report.c */
extern const struct cmd_entry cmd_report_at_risk_entry;
extern const struct cmd_entry cmd_report_audit_entry; /* audit.c */
extern const struct cmd_entry cmd_events_list_entry;  /* events.c */
extern const struct cmd_entry cmd_events_replay_entry;
extern const struct cmd_entry cmd_webhook_test_entry; /* webhook.c */
extern const struct cmd_entry cmd_token_create_entry; /* token.c */
extern const struct cmd_entry cmd_token_list_entry;
extern const struct cmd_entry cmd_token_revoke_entry;
extern const struct cmd_entry cmd_config_check_entry; /* daemon_modes.c */
extern const struct cmd_entry cmd_migrate_entry;

#endif
