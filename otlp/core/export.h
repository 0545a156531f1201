// OTLP_EXPORT marks the declarations that make up otlp-cpp's binary interface.
//
//   class OTLP_EXPORT TracerProvider { ... };
//   OTLP_EXPORT Tracer GetTracer(std::string_view name);
//
// The libraries are compiled with -fvisibility=hidden: in a shared build (BUILD_SHARED_LIBS=ON)
// only what is marked here is visible to programs linking them, and calls between the library's
// own functions bind directly (no interposition through the PLT), which also lets the compiler
// inline them. In a static build the mark changes nothing for the program; it still keeps a
// shared object that embeds the static libraries from re-exporting their symbols.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define OTLP_EXPORT [[gnu::visibility("default")]]
#else
#define OTLP_EXPORT
#endif
