/* hdf5's dtypes (file, native, memory, h5py's bool) and key paths. */
#include <string.h>

#include "h5store.h"

/* ---- helpers ----------------------------------------------------------- */

hid_t h5_file_type(simrec_dtype_t dt)
{
	switch (dt) {
	case SIMREC_INT8:
		return H5T_STD_I8LE;
	case SIMREC_INT16:
		return H5T_STD_I16LE;
	case SIMREC_INT32:
		return H5T_STD_I32LE;
	case SIMREC_INT64:
		return H5T_STD_I64LE;
	case SIMREC_UINT8:
		return H5T_STD_U8LE;
	case SIMREC_UINT16:
		return H5T_STD_U16LE;
	case SIMREC_UINT32:
		return H5T_STD_U32LE;
	case SIMREC_UINT64:
		return H5T_STD_U64LE;
	case SIMREC_FLOAT32:
		return H5T_IEEE_F32LE;
	case SIMREC_FLOAT64:
		return H5T_IEEE_F64LE;
	default:
		return H5I_INVALID_HID;
	}
}

static hid_t native_type(simrec_dtype_t dt)
{
	switch (dt) {
	case SIMREC_INT8:
		return H5T_NATIVE_INT8;
	case SIMREC_INT16:
		return H5T_NATIVE_INT16;
	case SIMREC_INT32:
		return H5T_NATIVE_INT32;
	case SIMREC_INT64:
		return H5T_NATIVE_INT64;
	case SIMREC_UINT8:
		return H5T_NATIVE_UINT8;
	case SIMREC_UINT16:
		return H5T_NATIVE_UINT16;
	case SIMREC_UINT32:
		return H5T_NATIVE_UINT32;
	case SIMREC_UINT64:
		return H5T_NATIVE_UINT64;
	case SIMREC_FLOAT32:
		return H5T_NATIVE_FLOAT;
	case SIMREC_FLOAT64:
		return H5T_NATIVE_DOUBLE;
	default:
		return H5I_INVALID_HID;
	}
}

/* bool as h5py stores it: an int8 enum FALSE=0, TRUE=1 */
hid_t h5_bool_type(void)
{
	hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
	signed char f = 0, v = 1;
	H5Tenum_insert(t, "FALSE", &f);
	H5Tenum_insert(t, "TRUE", &v);
	return t;
}

/* float16 as h5py stores it: IEEE binary16, little-endian (HDF5 has no
 * predefined one) */
static hid_t float16_type(void)
{
	hid_t t = H5Tcopy(H5T_IEEE_F32LE);
	H5Tset_fields(t, 15, 10, 5, 0, 10);
	H5Tset_size(t, 2);
	H5Tset_ebias(t, 15);
	return t;
}

/* complex as h5py stores it: a compound of "r" and "i" */
static hid_t complex_type(hid_t part, size_t half)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, 2 * half);
	H5Tinsert(t, "r", 0, part);
	H5Tinsert(t, "i", half, part);
	return t;
}

/* A new type id the caller closes: the file type of dt. */
hid_t h5_new_file_type(simrec_dtype_t dt)
{
	hid_t t = h5_file_type(dt);
	return t >= 0 ? H5Tcopy(t) : h5_mem_type(dt);
}

/* A new type id the caller closes: the memory type of dt. */
hid_t h5_mem_type(simrec_dtype_t dt)
{
	if (dt == SIMREC_BOOL)
		return h5_bool_type();
	if (dt == SIMREC_FLOAT16)
		return float16_type();
	if (dt == SIMREC_COMPLEX64)
		return complex_type(H5T_IEEE_F32LE, 4);
	if (dt == SIMREC_COMPLEX128)
		return complex_type(H5T_IEEE_F64LE, 8);
	if (dt == SIMREC_STRING) {
		hid_t t = H5Tcopy(H5T_C_S1);
		H5Tset_size(t, H5T_VARIABLE);
		H5Tset_cset(t, H5T_CSET_UTF8);
		return t;
	}
	if (dt == SIMREC_BYTES)
		return H5Tvlen_create(H5T_NATIVE_UINT8);
	return H5Tcopy(native_type(dt));
}

/* h5py's bool: an enum of a 1-byte integer with exactly FALSE=0, TRUE=1 */
static int is_h5py_bool(hid_t t)
{
	if (H5Tget_class(t) != H5T_ENUM || H5Tget_size(t) != 1 ||
	    H5Tget_nmembers(t) != 2)
		return 0;
	int ok = 1;
	for (unsigned k = 0; k < 2 && ok; k++) {
		char *nm = H5Tget_member_name(t, k);
		signed char v = -1;
		ok = nm && H5Tget_member_value(t, k, &v) >= 0 &&
		     !strcmp(nm, v ? "TRUE" : "FALSE") && (v == 0 || v == 1);
		H5free_memory(nm);
	}
	return ok;
}

/* h5py's float16: IEEE binary16 fields */
static int is_float16(hid_t t)
{
	size_t sp, ep, es, mp, ms;
	return H5Tget_size(t) == 2 && H5Tget_order(t) == H5T_ORDER_LE &&
	       H5Tget_fields(t, &sp, &ep, &es, &mp, &ms) >= 0 && sp == 15 &&
	       ep == 10 && es == 5 && mp == 0 && ms == 10 &&
	       H5Tget_ebias(t) == 15;
}

/* A member of h5py's complex: a little-endian IEEE float of sz bytes,
 * named name, at offset off */
static int complex_part(hid_t t, unsigned k, const char *name, size_t sz,
                        size_t off)
{
	char *nm = H5Tget_member_name(t, k);
	hid_t m = H5Tget_member_type(t, k);
	int ok = nm && !strcmp(nm, name) && m >= 0 &&
	         H5Tget_member_offset(t, k) == off &&
	         H5Tequal(m, sz == 4 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE) > 0;
	H5free_memory(nm);
	if (m >= 0)
		H5Tclose(m);
	return ok;
}

/* h5py's complex64 / complex128: a compound {r, i} of two floats */
static int is_h5py_complex(hid_t t, size_t sz)
{
	return (sz == 8 || sz == 16) && H5Tget_nmembers(t) == 2 &&
	       complex_part(t, 0, "r", sz / 2, 0) &&
	       complex_part(t, 1, "i", sz / 2, sz / 2);
}

/* The simrec dtype of an HDF5 type, or SIMREC_ENOTSUP with *why naming
 * what is not handled (such data is refused, never read as something
 * else). */
int h5_dtype_of(hid_t t, simrec_dtype_t *dt, const char **why)
{
	static const char *classes[] = {[H5T_TIME] = "time types",
	                                [H5T_BITFIELD] = "bitfield types",
	                                [H5T_OPAQUE] = "opaque types",
	                                [H5T_COMPOUND] = "compound types",
	                                [H5T_REFERENCE] = "references",
	                                [H5T_ARRAY] = "array types"};
	H5T_class_t c = H5Tget_class(t);
	size_t sz = H5Tget_size(t);
	*why = "this datatype";
	if (c == H5T_ENUM) {
		*dt = SIMREC_BOOL;
		*why = "enum types other than h5py's bool";
		return is_h5py_bool(t) ? 0 : SIMREC_ENOTSUP;
	}
	if (c == H5T_COMPOUND) {
		*dt = sz == 8 ? SIMREC_COMPLEX64 : SIMREC_COMPLEX128;
		*why = "compound types other than h5py's complex";
		return is_h5py_complex(t, sz) ? 0 : SIMREC_ENOTSUP;
	}
	if (c == H5T_STRING) {
		*dt = SIMREC_STRING;
		*why = "fixed-length strings";
		return H5Tis_variable_str(t) > 0 ? 0 : SIMREC_ENOTSUP;
	}
	if (c == H5T_VLEN) {
		/* simrec's bytes: a sequence of 1-byte integers */
		hid_t b = H5Tget_super(t);
		int ok = b >= 0 && H5Tget_class(b) == H5T_INTEGER &&
		         H5Tget_size(b) == 1;
		H5T_class_t bc = b >= 0 ? H5Tget_class(b) : H5T_NO_CLASS;
		if (b >= 0)
			H5Tclose(b);
		*dt = SIMREC_BYTES;
		*why = bc == H5T_FLOAT ? "variable-length sequences of floats"
		                       : "variable-length sequences other than "
		                         "of bytes";
		return ok ? 0 : SIMREC_ENOTSUP;
	}
	if (c == H5T_INTEGER) {
		int sgn = H5Tget_sign(t) == H5T_SGN_2;
		int k = sz == 1   ? 0
		        : sz == 2 ? 1
		        : sz == 4 ? 2
		        : sz == 8 ? 3
		                  : -1;
		*why = "integers of other than 1, 2, 4 or 8 bytes";
		if (k < 0)
			return SIMREC_ENOTSUP;
		*dt = (simrec_dtype_t)((sgn ? SIMREC_INT8 : SIMREC_UINT8) + k);
		return 0;
	}
	if (c == H5T_FLOAT && (sz == 4 || sz == 8)) {
		*dt = sz == 4 ? SIMREC_FLOAT32 : SIMREC_FLOAT64;
		return 0;
	}
	if (c == H5T_FLOAT && is_float16(t)) {
		*dt = SIMREC_FLOAT16;
		return 0;
	}
	if (c == H5T_FLOAT)
		*why = "floats other than IEEE binary16, 32 and 64";
	else if ((int)c >= 0 && (size_t)c < sizeof classes / sizeof *classes &&
	         classes[c])
		*why = classes[c];
	return SIMREC_ENOTSUP;
}

const char *h5_path_of(const char *key, char *buf, size_t cap)
{
	snprintf(buf, cap, "/%s", key);
	return buf;
}

static int soft_target_exists(hid_t file, const char *p, size_t n, int depth);

/* Whether every component of path (absolute) exists, each link checked
 * before it is crossed: 1 yes, 0 no, -1 a link that is never followed
 * (external: into another file, which may be a FIFO or a device; a
 * user-defined class; soft links nested deeper than HDF5's own limit).
 * A soft link is followed through its value, checked the same way. */
static int exists_at(hid_t file, const char *path, int depth)
{
	char p[4096];
	if (depth > 16 || (size_t)snprintf(p, sizeof p, "%s", path) >= sizeof p)
		return -1;
	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = 0;
		H5L_info_t li;
		htri_t e = H5Lexists(file, p, H5P_DEFAULT);
		int rc = e <= 0                                       ? 0
		         : H5Lget_info(file, p, &li, H5P_DEFAULT) < 0 ? -1
		                                                      : 1;
		if (rc > 0 && li.type == H5L_TYPE_SOFT)
			rc = soft_target_exists(file, p, li.u.val_size, depth);
		else if (rc > 0 && li.type != H5L_TYPE_HARD)
			rc = -1;
		if (s)
			*s = '/';
		if (rc <= 0 || !s)
			return rc;
	}
}

/* The soft link at p (absolute): does its target exist (exists_at)? */
static int soft_target_exists(hid_t file, const char *p, size_t n, int depth)
{
	char val[4096], full[8192];
	if (n >= sizeof val ||
	    H5Lget_val(file, p, val, sizeof val, H5P_DEFAULT) < 0)
		return -1;
	val[n < sizeof val ? n : sizeof val - 1] = 0;
	const char *slash = strrchr(p, '/');
	if (val[0] == '/')
		snprintf(full, sizeof full, "%s", val);
	else /* relative to the group holding the link */
		snprintf(full, sizeof full, "%.*s/%s", (int)(slash - p), p,
		         val);
	return exists_at(file, full, depth + 1);
}

int h5_exists(hid_t file, const char *key)
{
	char p[4096];
	if (!*key)
		return 1;
	if ((size_t)snprintf(p, sizeof p, "/%s", key) >= sizeof p)
		return 0;
	return exists_at(file, p, 0);
}

int h5_is_group(hid_t file, const char *key)
{
	H5O_info_t info;
	char p[4096];
	if (!*key)
		return 1;
	if (H5Oget_info_by_name(file, h5_path_of(key, p, sizeof p), &info,
	                        H5P_DEFAULT) < 0)
		return -1;
	return info.type == H5O_TYPE_GROUP;
}
