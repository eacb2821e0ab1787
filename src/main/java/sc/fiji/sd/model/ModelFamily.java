package sc.fiji.sd.model;

/**
 * The model family, as {@code info} and the model lists name it: which text conditioning and UNet inputs it takes.
 * Detected from {@code model_index.json}'s {@code _class_name}, else from the UNet's inputs ({@code text_embeds},
 * {@code time_ids}) and the text width.
 */
public enum ModelFamily {
	SD1("SD 1.x"), SD2("SD 2.x"), SDXL_BASE("SDXL base"), SDXL_REFINER("SDXL refiner"),
	SDXL_INPAINTING("SDXL inpainting"), OTHER("SD 1.x/2.x layout");

	private final String label;

	ModelFamily(String label) {
		this.label = label;
	}

	public String label() { return label; }

	public boolean sdxl() { return this == SDXL_BASE || this == SDXL_REFINER || this == SDXL_INPAINTING; }

	/** SD 1.x/2.x by the text encoder's width (768, 1024); other widths (the small shipped model) are OTHER. */
	static ModelFamily ofTextWidth(int width) {
		return width == 768 ? SD1 : width == 1024 ? SD2 : OTHER;
	}

	@Override
	public String toString() { return label; }
}
