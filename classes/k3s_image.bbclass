# k3s image features and image defaults, for the layer's images and for any other image.
#
#   EXTRA_IMAGE_FEATURES += "k3s-server"   # k3s server (k3s.service enabled) + node tools
#   EXTRA_IMAGE_FEATURES += "k3s-agent"    # k3s agent (disabled until `k3s-agent -s URL -t TOKEN`) + node tools
#
# The features themselves (FEATURE_PACKAGES_k3s-*) are defined in conf/layer.conf, so they are known to every image
# as soon as the layer is in BBLAYERS: without `require conf/distro/include/k3s.inc` an image asking for one fails
# with "Nothing RPROVIDES 'k3s-agent'" followed by the skipped k3s recipes' message naming that line, instead of
# OE-Core's "not a valid image feature". conf/distro/include/k3s.inc INHERITs this class globally so every image
# gets the defaults below; core-image-k3s and core-image-k3s-agent inherit it directly. In recipes that are not
# images it does nothing.
#
# EXTRA_IMAGE_FEATURES applies to every image. An image whose profile fixes its role (K3S_IMAGE_ROLE[<image>],
# core-image-k3s: server, core-image-k3s-agent: agent) keeps that role when EXTRA_IMAGE_FEATURES asks for the other
# one; any other image with both features is skipped with a message naming where they came from.
#
# Defaults for images with a k3s feature, from the image profiles in k3s-spec.yaml (K3S_IMAGE_*[<image>] varflags in
# conf/include/k3s-spec.inc; an image without its own profile uses the first profile of its role):
#   QB_MEM                    "-m <K3S_QEMU_MEMORY_MB>" so a plain `runqemu` does not run out of memory. A QB_MEM from
#                             local.conf/machine wins; `runqemu ... qemuparams="-m N"` always wins (runqemu reads
#                             -m from qemuparams first).
#   IMAGE_ROOTFS_EXTRA_SPACE  K3S_ROOTFS_EXTRA_SPACE_KB of free space for container images, unless local.conf sets
#                             IMAGE_ROOTFS_EXTRA_SPACE (or the image recipe assigns it) to anything but OE-Core's
#                             default "0".
#   logging in                K3S_QEMU_DEBUG_LOGIN = "1" (local.conf) adds K3S_QEMU_LOGIN_FEATURES to the image's
#                             IMAGE_FEATURES on qemu machines only (override qemuall): root without a password,
#                             autologin on the serial console, root over SSH. On any other MACHINE it adds nothing
#                             (with a warning): a board never gets an open root account from this knob.

# The profiles come from conf/include/k3s-spec.inc, which conf/distro/include/k3s.inc and the layer's images require.

# Read-only / A/B roots: a k3s image with read-only-rootfs needs K3S_DATA_PARTITION (classes/k3s_rootfs.bbclass).
inherit k3s_rootfs

# What was set before any image recipe or class could set it: local.conf, the machine, the distro.
K3S_PRESET_QB_MEM := "${@d.getVar('QB_MEM') or ''}"

# Empty: take the image's profile (README: Knobs).
K3S_QEMU_MEMORY_MB ??= ""
K3S_ROOTFS_EXTRA_SPACE_KB ??= ""
# "0": root stays locked (OE-Core's default); "1": see "logging in" above (README: Logging in).
K3S_QEMU_DEBUG_LOGIN ??= "0"
# OE-Core's development features (core-image.bbclass; debug-tweaks no longer exists on wrynose).
K3S_QEMU_LOGIN_FEATURES = "empty-root-password allow-empty-password allow-root-login serial-autologin-root"

def k3s_image_profile(d, flag, role):
    """The profile value for this image, or the first profile of the same role."""
    pn = d.getVar('PN')
    own = d.getVarFlag(flag, pn)
    if own:
        return own
    roles = d.getVarFlags('K3S_IMAGE_ROLE') or {}
    for image in sorted(roles):
        if roles[image] == role and d.getVarFlag(flag, image):
            return d.getVarFlag(flag, image)
    return None

def k3s_extra_space_assigned(d):
    """True when local.conf or the image assigned IMAGE_ROOTFS_EXTRA_SPACE (plainly or with an active override).

    The value without :append pieces (parsing=True) is OE-Core's "0" unless someone assigned it; appends such as
    core-image-minimal's " + 4096" journal space are additions, not a decision about the total.
    """
    var = 'IMAGE_ROOTFS_EXTRA_SPACE'
    if (d.getVar(var, parsing=True) or '').strip() not in ('', '0'):
        return True
    active = set((d.getVar('OVERRIDES') or '').split(':'))
    for _, override in d.overridedata.get(var) or []:
        parts = override.split(':')
        if 'append' not in parts and 'prepend' not in parts and 'remove' not in parts and set(parts) <= active:
            return True
    return False

def k3s_image_defaults(d):
    features = d.getVar('IMAGE_FEATURES').split()
    roles = [r for r in ('server', 'agent') if 'k3s-' + r in features]
    if not roles:
        return
    if len(roles) > 1:
        own = d.getVarFlag('K3S_IMAGE_ROLE', d.getVar('PN'))
        if own in roles:
            # EXTRA_IMAGE_FEATURES is global; this image is a server (or agent) image by definition.
            other = [r for r in roles if r != own]
            # setVar of a ":remove" adds one more removal (appendVar would file it under an "append" override).
            d.setVar('IMAGE_FEATURES:remove', ' '.join('k3s-' + r for r in other))
            roles = [own]
        else:
            extra = [f for f in (d.getVar('EXTRA_IMAGE_FEATURES') or '').split() if f in ('k3s-server', 'k3s-agent')]
            where = (' (EXTRA_IMAGE_FEATURES = "%s" adds to every image: set the role per image with '
                     'IMAGE_FEATURES:append:pn-<image> instead)' % ' '.join(extra)) if extra else ''
            raise bb.parse.SkipRecipe("IMAGE_FEATURES of %s has both k3s-server and k3s-agent%s; a node is one or "
                                      "the other (an agent image can still become a server through k3s-role-setup)"
                                      % (d.getVar('PN'), where))
    role = roles[0]

    login = d.getVar('K3S_QEMU_DEBUG_LOGIN')
    if login not in ('0', '1'):
        bb.fatal('K3S_QEMU_DEBUG_LOGIN = "%s" is not valid; expected "0" or "1" (set it in local.conf)' % login)
    if login == '1':
        if 'qemuall' in (d.getVar('OVERRIDES') or '').split(':'):
            d.appendVar('IMAGE_FEATURES', ' ' + d.getVar('K3S_QEMU_LOGIN_FEATURES'))
        else:
            bb.warn('K3S_QEMU_DEBUG_LOGIN = "1" applies to qemu machines only; %s for MACHINE %s keeps root locked'
                    % (d.getVar('PN'), d.getVar('MACHINE')))

    mem = d.getVar('K3S_QEMU_MEMORY_MB') or k3s_image_profile(d, 'K3S_IMAGE_QEMU_MEMORY_MB', role)
    if mem and not d.getVar('K3S_PRESET_QB_MEM'):
        if not mem.isdigit():
            bb.fatal("K3S_QEMU_MEMORY_MB = \"%s\" is not a number of megabytes" % mem)
        d.setVar('QB_MEM', '-m ' + mem, parsing=True)

    space = d.getVar('K3S_ROOTFS_EXTRA_SPACE_KB') or k3s_image_profile(d, 'K3S_IMAGE_ROOTFS_EXTRA_SPACE_KB', role)
    if space and not k3s_extra_space_assigned(d):
        if not space.isdigit():
            bb.fatal("K3S_ROOTFS_EXTRA_SPACE_KB = \"%s\" is not a number of KiB" % space)
        # parsing=True: replace the value like an assignment would, keeping the recipe's :append (for example
        # core-image-minimal's " + 4096" journal space); a plain setVar would drop pending appends.
        d.setVar('IMAGE_ROOTFS_EXTRA_SPACE', space, parsing=True)

# Image variables are only final once the recipe is parsed, so the defaults are decided at the end of parsing.
# nooelint: oelint.task.noanonpython
python __anonymous() {
    if bb.data.inherits_class('image', d):
        k3s_image_defaults(d)
}
