/* Varlink messages: decoding calls, encoding replies and errors. */
#ifndef VL_MESSAGE_H
#define VL_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define VL_ERR_METHOD_NOT_FOUND "org.varlink.service.MethodNotFound"
#define VL_ERR_INTERFACE_NOT_FOUND "org.varlink.service.InterfaceNotFound"
#define VL_ERR_INVALID_PARAMETER "org.varlink.service.InvalidParameter"
#define VL_ERR_PERMISSION_DENIED "org.varlink.service.PermissionDenied"
#define VL_ERR_EXPECTED_MORE "org.varlink.service.ExpectedMore"

/* A decoded call. Owns root; the other pointers point into it. */
struct vl_call {
	json_t *root;
	const char *method; /* "interface.Method" */
	json_t *parameters; /* always an object, maybe empty */
	bool oneway;
	bool more;
};

/* A decoded reply (client side). Owns root. */
struct vl_reply {
	json_t *root;
	json_t *parameters; /* always an object, maybe empty */
	const char *error;  /* NULL unless the reply is an error */
	bool continues;
};

/*
 * Decodes one call. On failure returns -1 and writes a reason to err; the
 * caller answers with an error or closes the connection.
 */
int vl_call_decode(const char *text, size_t len, struct vl_call *call,
                   char *err, size_t errlen)
        __attribute__((warn_unused_result));
void vl_call_clear(struct vl_call *call);

/* Splits "a.b.Method" into its interface ("a.b") length; 0 if malformed. */
size_t vl_method_interface_len(const char *method);

/* Encodes a reply; steals parameters (may be NULL). Returns malloc'd text. */
char *vl_reply_encode(json_t *parameters, bool continues);
/* Encodes an error reply; steals parameters (may be NULL). */
char *vl_error_encode(const char *error, json_t *parameters);
/* Encodes a call; steals parameters (may be NULL). */
char *vl_call_encode(const char *method, json_t *parameters, bool more,
                     bool oneway);

int vl_reply_decode(const char *text, size_t len, struct vl_reply *reply,
                    char *err, size_t errlen)
        __attribute__((warn_unused_result));
void vl_reply_clear(struct vl_reply *reply);

#endif
