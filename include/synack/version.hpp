// synack/version.hpp
#pragma once

#define SYNACK_VERSION_MAJOR 0
#define SYNACK_VERSION_MINOR 1
#define SYNACK_VERSION_PATCH 0

namespace synack {
inline constexpr int version_major = SYNACK_VERSION_MAJOR;
inline constexpr int version_minor = SYNACK_VERSION_MINOR;
inline constexpr int version_patch = SYNACK_VERSION_PATCH;
} // namespace synack
