/* ctl_proto.c - framing and checking of control-socket lines (ctl_proto.h). */
#define _GNU_SOURCE
#include "ctl_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define FMT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parse exactly one JSON value filling LEN bytes at TEXT (surrounding white
 * space allowed).  Returns the value, or NULL with a static description. */
static struct json_object *parse_one(const char *text, size_t len, const char **why)
{
    while (len && is_space(text[len - 1]))
        len--;
    while (len && is_space(*text)) {
        text++;
        len--;
    }
    if (len == 0) {
        *why = "empty line";
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        *why = "NUL byte in line";
        return NULL;
    }
    if (len > (size_t)0x7fffffff) {
        *why = "line too long";
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new();
    if (!tok) {
        *why = NULL;
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr == json_tokener_continue) {
        /* A number at the very end is "maybe unfinished" for json-c. */
        *why = "incomplete JSON";
        json_object_put(obj);
        return NULL;
    }
    if (jerr != json_tokener_success) {
        *why = json_tokener_error_desc(jerr);
        json_object_put(obj);
        return NULL;
    }
    if (end < len) {
        *why = "trailing data after the JSON value";
        json_object_put(obj);
        return NULL;
    }
    *why = NULL;
    return obj;
}

int ctl_proto_parse_request(const char *line, size_t len, struct json_object **req,
                            const char **cmd, char **errmsg)
{
    const char *why = NULL;
    *req = NULL;
    *cmd = NULL;
    *errmsg = NULL;

    struct json_object *obj = parse_one(line, len, &why);
    if (obj && !json_object_is_type(obj, json_type_object))
        why = "not a JSON object";
    struct json_object *c = NULL;
    if (!why && obj &&
        (!json_object_object_get_ex(obj, "cmd", &c) || !json_object_is_type(c, json_type_string)))
        why = "missing \"cmd\" (string)";
    if (!obj && !why)
        return -ENOMEM;
    if (why) {
        json_object_put(obj);
        if (asprintf(errmsg, "malformed request: %s", why) < 0) {
            *errmsg = NULL;
            return -ENOMEM;
        }
        return -EINVAL;
    }
    *req = obj;
    *cmd = json_object_get_string(c);
    return 0;
}

/* Copy TEXT with a "\n" appended into a new buffer. */
static char *line_dup(const char *text, size_t *len)
{
    size_t n = strlen(text);
    char *s = malloc(n + 2);
    if (!s)
        return NULL;
    memcpy(s, text, n);
    s[n] = '\n';
    s[n + 1] = '\0';
    *len = n + 1;
    return s;
}

char *ctl_proto_encode_request(struct json_object *request, size_t *len, int *err)
{
    struct json_object *c = NULL;
    if (!request || !json_object_is_type(request, json_type_object) ||
        !json_object_object_get_ex(request, "cmd", &c) || !json_object_is_type(c, json_type_string)) {
        *err = -EINVAL;
        return NULL;
    }
    const char *text = json_object_to_json_string_ext(request, FMT_FLAGS);
    if (!text) {
        *err = -ENOMEM;
        return NULL;
    }
    if (strlen(text) + 1 > CTL_MAX_REQUEST) {
        *err = -EMSGSIZE;
        return NULL;
    }
    char *s = line_dup(text, len);
    *err = s ? 0 : -ENOMEM;
    return s;
}

static char *reply_line(struct json_object *reply, size_t *len)
{
    const char *text = json_object_to_json_string_ext(reply, FMT_FLAGS);
    char *s = text ? line_dup(text, len) : NULL;
    json_object_put(reply);
    return s;
}

char *ctl_proto_reply_ok(struct json_object *result, size_t *len)
{
    struct json_object *reply = json_object_new_object();
    struct json_object *ok = json_object_new_boolean(1);
    if (!reply || !ok) {
        json_object_put(reply);
        json_object_put(ok);
        json_object_put(result);
        return NULL;
    }
    json_object_object_add(reply, "ok", ok);
    if (json_object_object_add(reply, "result", result) < 0) {
        json_object_put(result);
        json_object_put(reply);
        return NULL;
    }
    return reply_line(reply, len);
}

char *ctl_proto_reply_error(const char *msg, size_t *len)
{
    struct json_object *reply = json_object_new_object();
    struct json_object *ok = json_object_new_boolean(0);
    struct json_object *e = json_object_new_string(msg ? msg : "unknown error");
    if (!reply || !ok || !e) {
        json_object_put(reply);
        json_object_put(ok);
        json_object_put(e);
        return NULL;
    }
    json_object_object_add(reply, "ok", ok);
    json_object_object_add(reply, "error", e);
    return reply_line(reply, len);
}

static int proto_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EPROTO;
}

int ctl_proto_parse_reply(const char *line, size_t len, struct json_object **reply, char *err,
                          size_t errlen)
{
    const char *why = NULL;
    *reply = NULL;
    struct json_object *obj = parse_one(line, len, &why);
    if (!obj)
        return why ? proto_error(err, errlen, "malformed reply: %s", why) : -ENOMEM;

    struct json_object *ok = NULL, *x = NULL;
    if (!json_object_is_type(obj, json_type_object))
        why = "not a JSON object";
    else if (!json_object_object_get_ex(obj, "ok", &ok) || !json_object_is_type(ok, json_type_boolean))
        why = "missing \"ok\" (boolean)";
    else if (json_object_get_boolean(ok) && !json_object_object_get_ex(obj, "result", &x))
        why = "missing \"result\"";
    else if (!json_object_get_boolean(ok) &&
             (!json_object_object_get_ex(obj, "error", &x) || !json_object_is_type(x, json_type_string)))
        why = "missing \"error\" (string)";
    if (why) {
        json_object_put(obj);
        return proto_error(err, errlen, "malformed reply: %s", why);
    }
    *reply = obj;
    return 0;
}
