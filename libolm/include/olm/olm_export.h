/* caudata's libolm 3.2.16 C interface: symbol visibility.
 *
 * Part of caudata-libolm (caudata's libolm/ directory): the functions, types and ABI of
 * libolm 3.2.16's <olm/olm_export.h>, implemented on caudata. Apache-2.0. */
#ifndef OLM_OLM_EXPORT_H_
#define OLM_OLM_EXPORT_H_


#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && !defined(OLM_STATIC_DEFINE)
#  ifdef olm_EXPORTS
#    define OLM_EXPORT __declspec(dllexport)
#  else
#    define OLM_EXPORT __declspec(dllimport)
#  endif
#  define OLM_NO_EXPORT
#elif defined(__GNUC__) || defined(__clang__)
#  define OLM_EXPORT __attribute__((visibility("default")))
#  define OLM_NO_EXPORT __attribute__((visibility("hidden")))
#else
#  define OLM_EXPORT
#  define OLM_NO_EXPORT
#endif

#ifndef OLM_DEPRECATED
#  if defined(__GNUC__) || defined(__clang__)
#    define OLM_DEPRECATED __attribute__((__deprecated__))
#  else
#    define OLM_DEPRECATED
#  endif
#endif
#define OLM_DEPRECATED_EXPORT OLM_EXPORT OLM_DEPRECATED
#define OLM_DEPRECATED_NO_EXPORT OLM_NO_EXPORT OLM_DEPRECATED

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OLM_OLM_EXPORT_H_ */
