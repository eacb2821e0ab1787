package sc.fiji.sd.model;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The name a model goes by in the provenance ({@code Model: <name>}) and in the Info: its folder's name, except for
 * the shipped model unpacked from the jar, whose cache folder carries a hash suffix ({@code tiny-sd-shapes-b014b8})
 * that names our cache, not the model: that one is {@value EmbeddedModel#NAME}; and a model in the Hugging Face cache
 * ({@code models--org--name/snapshots/<commit>}), which goes by its repository id {@code org/name}.
 */
public final class ModelName {

	private static final Pattern UNPACKED = Pattern.compile(Pattern.quote(EmbeddedModel.NAME) + "-[0-9a-f]{1,8}");

	private ModelName() {}

	public static String of(Path folder) {
		Path absolute = folder.toAbsolutePath().normalize();
		// <hub cache>/models--org--name/snapshots/<sha>[/subfolder]: the repository id (and the subfolder)
		for (Path p = absolute; p != null && p.getParent() != null && p.getParent().getParent() != null; p = p
			.getParent())
		{
			Path repo = p.getParent().getParent();
			if (p.getParent().getFileName().toString().equals("snapshots") && repo.getFileName() != null && repo
				.getFileName().toString().startsWith("models--"))
				return repo.getFileName().toString().substring("models--".length()).replaceFirst("--", "/") + (p.equals(
					absolute) ? "" : "/" + p.relativize(absolute).toString().replace('\\', '/'));
		}
		Path name = absolute.getFileName();
		if (name == null) return absolute.toString();
		Path parent = absolute.getParent();
		// <cache>/stable-diffusion-fiji/models/tiny-sd-shapes-<hash>, where EmbeddedModel unpacks the jar's copy
		boolean unpacked = UNPACKED.matcher(name.toString()).matches() && parent != null
			&& parent.endsWith(Path.of("stable-diffusion-fiji", "models"));
		return unpacked ? EmbeddedModel.NAME : name.toString();
	}
}
