# Finds liburing (Debian's liburing-dev ships a .pc file but no CMake package) and
# defines the imported target synack::liburing. Used by the build and by the installed config.
if(NOT TARGET synack::liburing)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(SYNACK_PC_LIBURING QUIET liburing)
  endif()
  find_path(SYNACK_LIBURING_INCLUDE_DIR liburing.h HINTS ${SYNACK_PC_LIBURING_INCLUDE_DIRS})
  find_library(SYNACK_LIBURING_LIBRARY NAMES uring HINTS ${SYNACK_PC_LIBURING_LIBRARY_DIRS})
  if(NOT SYNACK_LIBURING_INCLUDE_DIR OR NOT SYNACK_LIBURING_LIBRARY)
    message(FATAL_ERROR "synack needs liburing (Debian/Ubuntu: apt-get install liburing-dev)")
  endif()
  add_library(synack::liburing UNKNOWN IMPORTED)
  set_target_properties(synack::liburing PROPERTIES IMPORTED_LOCATION "${SYNACK_LIBURING_LIBRARY}"
                                                    INTERFACE_INCLUDE_DIRECTORIES "${SYNACK_LIBURING_INCLUDE_DIR}")
endif()
